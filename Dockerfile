# One image for every AnsFlow role: `serve --role api|gateway|all` or `worker`.
# Steps run in a bubblewrap sandbox, which needs namespaces: run the container that runs steps
# (role all, or worker) with `--cap-add SYS_ADMIN --security-opt seccomp=unconfined
# --security-opt apparmor=unconfined` (docker-compose.yml does), or see docs/security.md.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ansible openssh-client bubblewrap perl ca-certificates python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY . .
# `npm ci` runs `prepare`, which builds the server (dist/) and the web UI (web/dist/).
RUN npm ci && npm prune --omit=dev
ENV ANSFLOW_HOST=0.0.0.0 ANSFLOW_DATA_DIR=/data NODE_ENV=production
VOLUME /data
EXPOSE 8000 8001
ENTRYPOINT ["node", "--enable-source-maps", "dist/cli/main.js"]
CMD ["serve"]
