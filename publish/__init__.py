"""Publishing targets: basic auth (nginx/Apache) and S3 + CloudFront."""
