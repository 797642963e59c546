import { describe, expect, it } from 'vitest';
import { tracingOptionsFromEnv } from './start-tracing.js';

describe(tracingOptionsFromEnv.name, () => {
  it('samples everything and exports nowhere when nothing is set', () => {
    const sut = tracingOptionsFromEnv('gateway', {});

    expect(sut).toEqual({ serviceName: 'gateway', otlpEndpoint: undefined, samplerRatio: 1 });
  });

  it('reads the endpoint and the ratio', () => {
    const sut = tracingOptionsFromEnv('telemetry', {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
      OTEL_TRACES_SAMPLER_RATIO: '0.1',
    });

    expect(sut).toEqual({ serviceName: 'telemetry', otlpEndpoint: 'http://jaeger:4318', samplerRatio: 0.1 });
  });

  it('treats empty variables as unset', () => {
    const sut = tracingOptionsFromEnv('analytics', {
      OTEL_EXPORTER_OTLP_ENDPOINT: ' ',
      OTEL_TRACES_SAMPLER_RATIO: '',
    });

    expect(sut.otlpEndpoint).toBeUndefined();
    expect(sut.samplerRatio).toBe(1);
  });

  it.each(['1.5', '-0.1', 'half'])('rejects ratio %s naming the variable', (ratio) => {
    expect(() => tracingOptionsFromEnv('x', { OTEL_TRACES_SAMPLER_RATIO: ratio })).toThrow(
      /OTEL_TRACES_SAMPLER_RATIO: a number between 0 and 1/,
    );
  });
});
