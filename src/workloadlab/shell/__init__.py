"""The shell's front-end of the command layer: ``workloadlab workload …``, ``workloadlab
artifact …`` and ``workloadlab server …``.

The subcommands are :mod:`workloadlab.commands`' (the magics' own parsers and functions); this
package gives them a session (a client on an asyncio loop of its own, the local server found or
started through :mod:`workloadlab.launcher`), prints their results as text or JSON, and turns
their errors into exit codes: 0 ok, 1 failed, 2 usage.
"""

OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130
"""Exit codes: done, failed (a refusal, an API error, a bad spec), a usage mistake, Ctrl-C."""
