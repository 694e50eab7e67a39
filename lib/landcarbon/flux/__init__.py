"""Eddy-covariance flux processing: loaders, u* filtering, MDS gap filling, partitioning."""
