"""Facebook Pages: one platform unit. `unit` is what the rest of ecoinbox asks of the platform
(settings, build, auth); `channel` talks to the Page through the Graph API (`channels/graph.py`,
shared with Instagram)."""
