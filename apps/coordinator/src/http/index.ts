// What main.ts needs from the HTTP layer.
export {
  DEFAULT_BODY_LIMIT_BYTES,
  buildHttpApp,
  buildHttpServer,
  type HttpServer,
  type HttpServerConfig,
  type HttpServerOptions,
} from "./server";
export { HTTP_ERROR_CODES, type ErrorBody, type HttpErrorCode } from "./errors";
