"""Run calls at the same moment, each in its own thread with its own database connection."""

import threading

from django.db import connections


def at_once(calls):
    """Start every call together; return what each returned, or the exception it raised, in order."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def attempt(index):
        try:
            barrier.wait()
            outcomes[index] = calls[index]()
        except Exception as error:
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes
