// Public surface of bus-kafka: filled by its issue.
export {};
