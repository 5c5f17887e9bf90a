"""Build-time code for Schoolplein: one module per job, wired into Pelican by `build`."""
