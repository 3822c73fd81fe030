"""Answering queries: the guard that keeps the endpoint read-only and local, worker processes
that can be killed at the time limit with an answer cache, result writers with row and size
caps, and local execution for the command line."""
