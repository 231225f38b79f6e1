"""The job worker: procrastinate (a PostgreSQL-backed job queue) running the platform's
time-driven work. `python -m app.manage worker` runs it; any number may run at once."""
