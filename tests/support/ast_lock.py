"""One ``ast.parse`` at a time in a test process (see the function)."""

from __future__ import annotations

import ast
import functools
import threading


def one_ast_parse_at_a_time() -> None:
    """Python 3.11 keeps the AST constructor's recursion depth in state that
    all threads share (CPython gh-106905 and its kin): two ``ast.parse`` at
    once, one in each thread, fail with « SystemError: AST constructor
    recursion depth mismatch ». A test process parses in two ways at once:
    Werkzeug compiles each new app's URL rules with ``ast.parse``, and Python
    3.11's ``traceback`` parses each line it underlines, in whatever thread
    prints an error (a test server's handler, a mail thread). The portal's
    own processes are not concerned: they build their one app before any
    thread starts. Here every caller goes through ``ast.parse``, so a lock
    around it serialises them; reentrant, for a traceback printed while a
    parse is under way in the same thread."""
    parse, lock = ast.parse, threading.RLock()

    @functools.wraps(parse)
    def parse_alone(*args, **kwargs):
        with lock:
            return parse(*args, **kwargs)

    ast.parse = parse_alone
