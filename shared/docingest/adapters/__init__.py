"""One adapter per AWS service (S3, SQS, DynamoDB) and the HTTP downloader."""
