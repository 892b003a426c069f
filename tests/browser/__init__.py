"""Browser scenarios of the portal, run in a process of their own by tests/browser/driver.py."""
