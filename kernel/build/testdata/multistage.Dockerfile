# syntax is ignored: comments are skipped
ARG VERSION=1.0

FROM busybox:latest AS Build
# a comment inside the stage
RUN set -e; \
    # a comment line inside a continuation is dropped
    echo one > /one; \
    echo two > /two
COPY --chown=1000:1000 ["a file.txt", "/dst/"]
FROM scratch
COPY --from=build /one /one
ENTRYPOINT ["/bin/true"]
EXPOSE 80/tcp
