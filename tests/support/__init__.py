"""What the tests share, one module per concern:

- ``constants``: the fixed captcha answer, the passwords, the test address;
- ``app``: an app on a SQLite file, test clients that send the CSRF token;
- ``signup``: the sign-up form values and the ``Signup`` actions;
- ``responses``: reading a response (text, fragment or page, field errors);
- ``structures``: signed-in people and a structure;
- ``concurrency``: calls released at the same instant;
- ``captcha``: challenges opened as a browser does, WAV read back;
- ``captcha_matcher``: the attacker's program that reads the audio captcha;
- ``smtp``: a real SMTP server (aiosmtpd) on a free port;
- ``pg_server``: a throwaway PostgreSQL server."""
