"""DynamoDB adapters. Access patterns and keys are documented in docs/storage.md."""
