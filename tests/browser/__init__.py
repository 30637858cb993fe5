"""End-to-end tests in Debian's Chromium (Playwright), against the app running
as a real server process with a real SMTP server catching its mail."""
