"""The rule catalogue (installed as `kmigrate.rules`): one module per rule or tight family.

Every module here is imported by `kmigrate.rule.all_rules()`; a Rule subclass with a `code`
is registered. Rename and argument tables live in `tables/` as plain data.
"""
