# Presence gateway image: built with the .NET SDK, run on the ASP.NET runtime image.
# docker-compose.yml at the top level runs three of these as one cluster, with
# its health check (GET /healthz).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Package versions and build rules first, so that a source change keeps the restore layer.
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Presence.Actors/Presence.Actors.csproj src/Presence.Actors/
COPY src/Presence.Gateway/Presence.Gateway.csproj src/Presence.Gateway/
RUN dotnet restore src/Presence.Gateway/Presence.Gateway.csproj
COPY hocon/ hocon/
COPY src/ src/
RUN dotnet publish src/Presence.Gateway/Presence.Gateway.csproj -c Release --no-restore -o /app --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# curl for the health check: with TLS on the gateway (--tls-auto), bash's /dev/tcp cannot speak to /healthz.
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
# Where --tls-auto keeps its certificate (PRESENCE_GATEWAY_DATA_DIR); docker-compose.yml mounts a volume here.
RUN mkdir -m 0700 /data
# WebSocket (and /healthz) port, ws:// or wss://, then the Akka.Remote and management (Cluster Bootstrap) ports of cluster mode.
EXPOSE 18789 4053 8558
ENTRYPOINT ["dotnet", "Presence.Gateway.dll"]
