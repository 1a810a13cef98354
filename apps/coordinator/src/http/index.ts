// What main.ts needs from the HTTP layer.
export {
  DEFAULT_BODY_LIMIT_BYTES,
  buildHttpApp,
  buildHttpServer,
  type HttpServer,
  type HttpServerConfig,
  type HttpServerOptions,
} from "./server";
