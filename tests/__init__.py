"""The test suite. Shared code lives in ``tests.support`` (and
``tests.browser.support`` for the browser tests), imported by package name;
the conftest files hold fixtures only."""
