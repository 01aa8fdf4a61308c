"""Instagram: one platform unit. `unit` is what the rest of ecoinbox asks of the platform; `channel`
talks to the professional account through the Graph API (`channels/graph.py`, shared with
Facebook), with the token of its linked Facebook Page."""
