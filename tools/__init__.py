"""Agent tools and toolsets. Each environment or toolset is a subpackage, imported on its own:

- `tools.retail`: the tau-bench retail shop (16 tools over a mock database, gold replay, task runner).
"""
