"""Use cases shared by the web views, the JSON API, the CLI and the scheduler.

Services never touch ``request``; anything that depends on the date takes ``today``.
"""
