/**
 * The CompleteMultipartUpload body: the scanner that reads the shapes
 * clients write must answer exactly as the general parser does whenever it
 * decides, a list of more than 10,000 parts is MalformedXML on both paths,
 * and a legal 10,000-part body is read quickly.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { completedParts, MAX_COMPLETE_BODY, MAX_PARTS, parseCompleteBody, parsedParts, scanCompleteBody } from '../../src/api/multipart/complete-body.js';

const ETAG = '0123456789abcdef0123456789abcdef';
const SHA256 = 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=';
const wrap = (inner: string) => `<CompleteMultipartUpload>${inner}</CompleteMultipartUpload>`;
const part = (n: number, etag = `"${ETAG}"`) => `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part>`;

/** The body the AWS SDK for JavaScript writes: declaration, namespace, a checksum, quotes as &quot;. */
function sdkBody(n: number): string {
  const parts: string[] = [];
  for (let i = 1; i <= n; i++) parts.push(`<Part><ChecksumSHA256>${SHA256}</ChecksumSHA256><ETag>&quot;${ETAG}&quot;</ETag><PartNumber>${i}</PartNumber></Part>`);
  return `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts.join('')}</CompleteMultipartUpload>`;
}

function outcome(f: () => unknown): string {
  try {
    return JSON.stringify(f());
  } catch (e) {
    const err = e as { code?: string; message?: string; fields?: unknown };
    if (!err.code) throw e;
    return `${err.code}: ${err.message} ${JSON.stringify(err.fields)}`;
  }
}

/** What the general parser alone answers (the answer of every body before the scanner). */
const general = (text: string) => outcome(() => completedParts(parsedParts(text), 'u'));

/** Asserts the scanner, when it decides, agrees with the general parser; returns whether it decided. */
function agrees(text: string): boolean {
  let raw;
  try {
    raw = scanCompleteBody(text);
  } catch (e) {
    assert.equal(outcome(() => { throw e; }), general(text), JSON.stringify(text));
    return true;
  }
  if (raw === undefined) return false;
  assert.equal(outcome(() => completedParts(raw, 'u')), general(text), JSON.stringify(text));
  return true;
}

const SHAPES = [
  sdkBody(3),
  // Go's encoding/xml (aws-sdk-go, rclone): &#34; for quotes.
  wrap(`<Part><ETag>&#34;${ETAG}&#34;</ETag><PartNumber>1</PartNumber><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>`),
  // Pretty-printed by hand, CRLF included.
  `<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<CompleteMultipartUpload>\r\n  <Part>\n    <PartNumber>1</PartNumber>\n\t<ETag>"x"</ETag>\n  </Part>\n  <Part><PartNumber>3</PartNumber><ETag>y</ETag></Part>\n</CompleteMultipartUpload>\n`,
  wrap(part(1, '') + part(2, '&quot;a&#x22;&amp;quot;&lt;&gt;&apos;')),
  wrap(`<Part><PartNumber> 1</PartNumber><ETag>x</ETag></Part>`),
  wrap(`<Part><PartNumber>1</PartNumber><ETag>x</ETag><ChecksumCRC32></ChecksumCRC32></Part>`),
  wrap(part(2) + part(1)),
  wrap(part(2) + part(2)),
  wrap(part(1) + '<Part></Part>'),
  wrap('<Part> </Part>'),
  wrap('<Part><ETag>x</ETag></Part>'),
  wrap('<Part><PartNumber>1</PartNumber></Part>'),
  wrap('<Part><PartNumber>0001234567</PartNumber><ETag>x</ETag></Part>'),
  wrap('<Part><PartNumber>1234567890</PartNumber><ETag>x</ETag></Part>'),
  wrap(''),
  '<CompleteMultipartUpload xmlns=""><Part><PartNumber>1</PartNumber><ETag>a\nb\tc</ETag></Part></CompleteMultipartUpload>',
];

describe('CompleteMultipartUpload body', () => {
  it('the scanner decides every shape clients write, as the general parser does', () => {
    for (const text of SHAPES) assert.ok(agrees(text), `undecided: ${JSON.stringify(text)}`);
  });

  it('bodies the scanner does not know are left to the general parser, which answers as before', () => {
    const others = [
      wrap('<!-- c -->' + part(1)), wrap(`<![CDATA[x]]>${part(1)}`), `<s3:CompleteMultipartUpload xmlns:s3="n">${part(1)}</s3:CompleteMultipartUpload>`,
      wrap(part(1, 'a&foo;b')), wrap(part(1, 'a & b')), wrap(part(1, 'x\u00e9')), wrap(part(1, 'a\r\nb')), wrap('<Part><PartNumber>1</PartNumber><ETag/></Part>'),
      wrap(`<Part><PartNumber>1</PartNumber><ETag>x</ETag><ETag>y</ETag></Part>`), wrap(`<Part><PartNumber>1</PartNumber><ETag>x</ETag><Size>1</Size></Part>`),
      wrap('<Other/>' + part(1)), `<Other>${part(1)}</Other>`, ' <?xml version="1.0"?>' + wrap(part(1)), '\ufeff' + wrap(part(1)), wrap(part(1)) + '<X/>',
      '<CompleteMultipartUpload xmlns="a" xmlns="b">' + part(1) + '</CompleteMultipartUpload>', wrap('<Part>'), 'not xml', '<CompleteMultipartUpload/>',
    ];
    for (const text of others) {
      assert.equal(scanCompleteBody(text), undefined, JSON.stringify(text));
      assert.equal(outcome(() => parseCompleteBody(text, 'u')), general(text));
    }
  });

  it('random edits of legal bodies: whenever the scanner decides, it answers as the general parser', () => {
    let seed = 20260323;
    const rnd = (k: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % k;
    const pieces = ['<', '>', '/', '&', ';', '"', "'", ' ', '\n', '\r', '\t', 'a', '1', '0', '?', '=', ':', 'Part', 'ETag', '&quot;', '&amp;', '&#34;', '&lt;',
      '&x;', '<Part>', '</Part>', '<PartNumber>', '</PartNumber>', '<ETag></ETag>', '\u00e9', '\u0000', '<!--', '-->', ']]>', 'xmlns', '<?xml version="1.0"?>'];
    let decided = 0;
    for (let k = 0; k < 30000; k++) {
      let text = SHAPES[rnd(SHAPES.length)];
      for (let e = 1 + rnd(3); e > 0; e--) {
        const at = rnd(text.length + 1);
        const op = rnd(3);
        const piece = pieces[rnd(pieces.length)];
        text = op === 0 ? text.slice(0, at) + text.slice(at + 1 + rnd(4)) : text.slice(0, at) + piece + text.slice(at + (op === 1 ? 0 : 1));
      }
      if (agrees(text)) decided++;
    }
    assert.ok(decided > 500, `the scanner decided only ${decided} bodies`);
  });

  it('10,000 parts are accepted; the 10,001st is MalformedXML on both paths, without a parse of the rest', () => {
    assert.equal(parseCompleteBody(sdkBody(MAX_PARTS), 'u').length, MAX_PARTS);
    const over = sdkBody(MAX_PARTS + 1);
    assert.throws(() => parseCompleteBody(over, 'u'), { code: 'MalformedXML' });
    // The general path (a body the scanner leaves to it) counts before it parses.
    const commented = over.replace('<Part>', '<!-- --><Part>');
    assert.equal(scanCompleteBody(commented), undefined);
    assert.throws(() => parsedParts(commented), { code: 'MalformedXML' });
    // Far more parts than any upload: refused as quickly.
    const huge = wrap(Array.from({ length: 90_000 }, (_, i) => part(i + 1)).join(''));
    const t = performance.now();
    assert.throws(() => parseCompleteBody(huge, 'u'), { code: 'MalformedXML' });
    assert.throws(() => parsedParts(huge.replace('<Part>', '<!-- --><Part>')), { code: 'MalformedXML' });
    assert.ok(performance.now() - t < 200, `${performance.now() - t} ms`);
  });

  it('a legal 10,000-part body with a checksum per part fits the bound and is read in well under 100 ms', () => {
    const text = sdkBody(MAX_PARTS);
    assert.ok(Buffer.byteLength(text) < MAX_COMPLETE_BODY, `${Buffer.byteLength(text)} bytes`);
    parseCompleteBody(text, 'u');
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      parseCompleteBody(text, 'u');
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    assert.ok(times[2] < 100, `median ${times[2].toFixed(1)} ms`);
  });
});
