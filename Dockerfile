# Realmark service image. Build: docker build -t realmark .
FROM python:3.11-slim

# Run as an unprivileged user; keys and the local store live in /data (a volume).
RUN useradd --create-home --uid 10001 realmark && mkdir /data && chown realmark /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY realmark ./realmark
COPY signer ./signer
COPY verifier ./verifier
COPY cli ./cli
COPY service ./service
COPY bench ./bench
# Everything else comes from PyPI wheels (FFmpeg's libraries ship inside `av`). From apt,
# only fonts: the share card's Korean, Japanese, Chinese and Thai letters (service/card.py).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-zenhei fonts-thai-tlwg \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir .

USER realmark
ENV REALMARK_HOME=/data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/.well-known/realmark/trust.json')"
CMD ["realmark", "serve", "--host", "0.0.0.0", "--port", "8000"]
