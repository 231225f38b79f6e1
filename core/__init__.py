"""What every domain package uses and none owns (see STYLE.md, "Layout")."""
