"""Code shared by auth_service and api_service: the contract between them."""
