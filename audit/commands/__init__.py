"""Commands of the ``audit`` command line defined outside ``audit.cli`` (each registered there in one line)."""
