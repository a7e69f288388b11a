"""A stopped service leaves at once: its logs written, the interpreter's teardown skipped."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_leave_writes_the_logs_and_skips_the_teardown(tmp_path):
    log_file = tmp_path / "service.log"
    program = textwrap.dedent(f"""
        import atexit, logging, sys
        from reasonops_runtime.lifecycle import leave

        handler = logging.FileHandler({str(log_file)!r})
        handler.setFormatter(logging.Formatter("%(message)s"))
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        atexit.register(lambda: print("torn down", flush=True))
        logging.getLogger("service").info("service stopped")
        sys.stdout.write("still buffered")
        leave(3)
        print("after leave")
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 3
    assert done.stdout == "still buffered"
    assert log_file.read_text() == "service stopped\n"
