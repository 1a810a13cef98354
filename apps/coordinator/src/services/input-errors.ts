import { BusError } from "@omnidaemon/bus-kafka";
import { CoordinatorError } from "./types";

const INPUT_CODES = new Set<BusError["code"]>([
  "INVALID_NAME",
  "INVALID_CONFIG",
  "INVALID_ENVELOPE",
  "ENVELOPE_TOO_LARGE",
  "REPLAY_REFUSED",
]);

/** Turns the bus's validation errors (which name the field) into the API's 400; anything else is rethrown. */
export function asInputError(error: unknown): never {
  if (error instanceof BusError && INPUT_CODES.has(error.code)) {
    throw new CoordinatorError("invalid_input", error.message, error.field ? { field: error.field } : {}, {
      cause: error,
    });
  }
  throw error;
}
