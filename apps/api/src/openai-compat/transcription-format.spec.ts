import { renderTranscript, sniffUpload, timestamp, toSrt, toVerboseJson, toVtt } from './transcription-format.ts';

const SEGMENTS = [
  { start: 0, end: 1.25, text: ' Hello there.' },
  { start: 1.25, end: 3661.5, text: 'A long pause.' },
];

describe('transcript formats', () => {
  it('writes srt and vtt timestamps', () => {
    expect(timestamp(3661.5, ',')).toBe('01:01:01,500');
    expect(timestamp(0.0004, '.')).toBe('00:00:00.000');
    expect(toSrt(SEGMENTS)).toBe('1\n00:00:00,000 --> 00:00:01,250\nHello there.\n\n2\n00:00:01,250 --> 01:01:01,500\nA long pause.\n');
    expect(toVtt(SEGMENTS)).toBe('WEBVTT\n\n00:00:00.000 --> 00:00:01.250\nHello there.\n\n00:00:01.250 --> 01:01:01.500\nA long pause.\n');
  });

  it('fills verbose_json from what the route gave, segments only when there are some', () => {
    expect(toVerboseJson({ text: 'hi' }, 'en')).toEqual({ task: 'transcribe', language: 'en', duration: 0, text: 'hi' });
    const verbose = toVerboseJson({ text: 'hi', language: 'de', segments: SEGMENTS }, undefined);
    expect(verbose).toMatchObject({ language: 'de', duration: 3661.5 });
    expect((verbose.segments as unknown[])[1]).toMatchObject({ id: 1, seek: 0, start: 1.25, end: 3661.5, text: 'A long pause.', tokens: [] });
  });

  it('renders each format with its content type', () => {
    expect(renderTranscript({ text: 'hi' }, 'json')).toEqual({ type: 'application/json; charset=utf-8', body: '{"text":"hi"}' });
    expect(renderTranscript({ text: 'hi' }, 'text')).toEqual({ type: 'text/plain; charset=utf-8', body: 'hi' });
    expect(renderTranscript({ text: 'hi', segments: SEGMENTS }, 'vtt').type).toBe('text/vtt; charset=utf-8');
  });
});

describe('sniffUpload', () => {
  const pad = (head: number[] | string) => Buffer.concat([typeof head === 'string' ? Buffer.from(head, 'latin1') : Buffer.from(head), Buffer.alloc(16)]);
  it('tells the accepted formats by their first bytes', () => {
    expect(sniffUpload(pad('RIFF\0\0\0\0WAVE'))?.ext).toBe('wav');
    expect(sniffUpload(pad('fLaC'))?.ext).toBe('flac');
    expect(sniffUpload(pad('OggS'))?.ext).toBe('ogg');
    expect(sniffUpload(pad('\0\0\0\x20ftypM4A '))?.ext).toBe('m4a');
    expect(sniffUpload(pad([0x1a, 0x45, 0xdf, 0xa3]))?.ext).toBe('webm');
    expect(sniffUpload(pad('ID3\x04'))?.ext).toBe('mp3');
    expect(sniffUpload(pad([0xff, 0xfb, 0x90])))?.toEqual({ ext: 'mp3', mime: 'audio/mpeg' });
  });

  it('refuses text and short bodies', () => {
    expect(sniffUpload(Buffer.from('{"error": "not audio at all"}'))).toBeUndefined();
    expect(sniffUpload(Buffer.from('RIFF'))).toBeUndefined();
  });
});
