/** Group states as the broker spells them (both protocols); @platformatic/kafka reports classic ones in capitals. */
const GROUP_STATES = [
  "Empty",
  "Stable",
  "PreparingRebalance",
  "CompletingRebalance",
  "Assigning",
  "Reconciling",
  "Dead",
];

/** A group state in the broker's own spelling, whatever case a client reports it in. */
export function groupState(state: string): string {
  return GROUP_STATES.find((known) => known.toUpperCase() === state.toUpperCase()) ?? state;
}
