"""View contexts: each page computes one object, rendered as HTML or returned as JSON."""
