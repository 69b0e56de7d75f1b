-- compose.yaml: the postgres service holds Airflow's metadata (database airflow, created by the
-- image) and MLflow's tracking store (this database).
CREATE DATABASE mlflow OWNER airflow;
