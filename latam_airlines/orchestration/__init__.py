"""What the Airflow DAGs run (dags/ holds only thin DAG files): one plain function per task,
importable without Airflow, idempotent and safe to retry. See `tasks.py`."""
