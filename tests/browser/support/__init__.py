"""What the browser tests do, as a person would, one module per concern:

- ``pages``: the headings and paths of the steps, as the person reads them;
- ``mail``: the SMTP inbox the app delivers to;
- ``people``: people and companies no other test uses;
- ``http``: set-ups through plain HTTP requests (an active account, a structure);
- ``checks``: axe-core, screenshots, the console and CSP watch;
- ``chromium``: the browser and its tabs;
- ``keyboard``: where the focus is, tabbing to an element;
- ``visitor``: ``Visitor``, one method per step of the journey;
- ``server``: the app as a server process."""
