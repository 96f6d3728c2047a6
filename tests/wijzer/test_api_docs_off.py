from fastapi.testclient import TestClient


def test_no_swagger_page_but_openapi_document(client: TestClient) -> None:
    # The Swagger UI page would need an inline script and a CDN, both forbidden by the CSP.
    assert client.get("/api/v1/docs").status_code == 404
    doc = client.get("/api/v1/openapi.json")
    assert doc.status_code == 200
    assert any(p.startswith("/api/v1/") for p in doc.json()["paths"])
