"""Drop duplicated <script> entries (sphinx-thebe's `const THEBE_JS_URL` is added twice -> SyntaxError)."""


def _dedupe(app, pagename, templatename, context, doctree):
    files = context.get("script_files")
    if not files:
        return
    seen, keep = set(), []
    for js in files:
        filename = getattr(js, "filename", js) or ""
        attrs = tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items()))
        key = (str(filename), attrs)
        if key in seen:
            continue
        seen.add(key)
        keep.append(js)
    files[:] = keep


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
