"""公开: the decided projects (民生实事项目) and the announcement (公告) of a cycle."""
