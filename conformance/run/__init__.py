"""The pytest adapter and the run's state in one pytest process: the plugin (collection, items, report hooks),
the run state (settings, target, browser, results, report and bundle), scenarios side by side (ahead) and the
run's console lines (progress)."""
