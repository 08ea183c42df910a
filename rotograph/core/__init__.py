"""The graph model: nodes, params and port types, graphs and groups, graph files, the registry and the author's contract."""
