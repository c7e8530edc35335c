"""The `tinylite` command's tools, one per module: inspect, bench, run, export_c."""
