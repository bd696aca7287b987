"""FastAPI's own hello-world app: the reference that bench/http_bench.py compares against."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def root():
    return {"message": "Hello World"}
