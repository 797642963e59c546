export { decodeOtlpJson, startOtlpReceiver } from './otlp-receiver.js';
export type { OtlpReceiver, ReceivedSpan, ReceivedSpanKind } from './otlp-receiver.js';
