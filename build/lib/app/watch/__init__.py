"""`earshot watch DIR`: the drop-folder watcher at the top level (the work is app/connectors/watch.py)."""
