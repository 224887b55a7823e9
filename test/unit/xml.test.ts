import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { asArray, escapeXml, parseXml, xmlDocument } from '../../src/api/xml.js';
import { S3Error } from '../../src/errors.js';

const malformed = (text: string) => assert.throws(() => parseXml(text), (e: unknown) => e instanceof S3Error && e.code === 'MalformedXML', text);

describe('xml', () => {
  it('xmlDocument renders nested values in key order, repeats arrays, omits undefined and escapes text', () => {
    const doc = xmlDocument('Root', { A: 'x<y&"z"', B: { C: [1, 2], D: undefined, E: true } });
    assert.equal(doc, '<?xml version="1.0" encoding="UTF-8"?>\n<Root xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><A>x&lt;y&amp;&quot;z&quot;</A><B><C>1</C><C>2</C><E>true</E></B></Root>');
    assert.equal(xmlDocument('R', {}, null), '<?xml version="1.0" encoding="UTF-8"?>\n<R></R>');
  });

  it('escapeXml escapes the five entities and carriage returns', () => {
    assert.equal(escapeXml(`&<>"'\r`), '&amp;&lt;&gt;&quot;&apos;&#13;');
  });

  it('parseXml returns the root and its content, ignoring namespaces and layout whitespace', () => {
    const { root, value } = parseXml('<?xml version="1.0"?>\n<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\n  <TagSet>\n    <Tag><Key>a</Key><Value>1</Value></Tag>\n  </TagSet>\n</Tagging>');
    assert.equal(root, 'Tagging');
    assert.deepEqual(value, { TagSet: { Tag: { Key: 'a', Value: '1' } } });
  });

  it('parseXml keeps leading and trailing spaces of values and expands the built-in entities', () => {
    const { value } = parseXml('<Delete><Object><Key>  a &amp; b  </Key></Object><Object><Key>x</Key></Object></Delete>');
    assert.deepEqual(asArray(value.Object).map((o: any) => o.Key), ['  a &amp; b  '.replace('&amp;', '&'), 'x']);
  });

  it('parseXml keeps numbers as strings', () => {
    assert.deepEqual(parseXml('<P><PartNumber>01</PartNumber></P>').value, { PartNumber: '01' });
  });

  it('parseXml refuses empty bodies, unclosed tags, several roots and plain text as MalformedXML', () => {
    for (const t of ['', '   ', '<A>', '<A></B>', '<A/><B/>', 'hello', '<A><B></A></B>']) malformed(t);
  });

  it('parseXml does not expand custom entities (no billion laughs)', () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><R>&b;</R>';
    let out: unknown;
    try {
      out = parseXml(bomb).value;
    } catch (e) {
      assert.ok(e instanceof S3Error && e.code === 'MalformedXML');
      return;
    }
    assert.ok(String(out).length < 100, 'entity not expanded');
  });

  it('asArray turns absent, single and repeated children into arrays', () => {
    assert.deepEqual(asArray(undefined), []);
    assert.deepEqual(asArray(''), []);
    assert.deepEqual(asArray({ a: 1 }), [{ a: 1 }]);
    assert.deepEqual(asArray([1, 2]), [1, 2]);
  });
});
