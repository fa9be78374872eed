"""The exit codes of the ``mathif`` command (documented in the README), in one place that
every command module can import without importing the CLI package's parser."""

EXIT_BUG = 1
EXIT_INPUT = 2
EXIT_UNGRADED = 3
# ``mathif eval`` finished with requests that still failed after their retries: the results
# are written, and the same command retries them.
EXIT_INCOMPLETE = 4
