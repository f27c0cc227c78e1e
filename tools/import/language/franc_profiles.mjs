// Converts the trigram profiles of the npm package `franc` (MIT) into the profile file that
// services/sentiment/text/language_id.h reads (format described there):
//   node franc_profiles.mjs FRANC_PACKAGE_DIR ISO_639_3_JSON SOURCE OUT
// FRANC_PACKAGE_DIR holds franc's data.js ({script: {iso639_3: 'tri|tri|...'}}); ISO_639_3_JSON
// is Debian iso-codes' iso_639-3.json, which gives the ISO 639-1 code Comprehend answers with.
// Individual languages without a 639-1 code of their own answer with their macrolanguage's
// (MACRO below); languages with neither are left out. Scripts that franc recognises by their
// characters alone (one language each) become `script` lines (SINGLE_SCRIPT below). SOURCE is
// written as the `source` line. OUT is written atomically (a temporary file, then a rename).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const [pkgDir, isoJson, source, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node franc_profiles.mjs FRANC_PACKAGE_DIR ISO_639_3_JSON SOURCE OUT');
  process.exit(2);
}

// ISO 639-3 individual language -> the ISO 639-1 code of its macrolanguage.
const MACRO = {
  arb: 'ar', pes: 'fa', prs: 'fa', pbu: 'ps', swh: 'sw', uzn: 'uz', zlm: 'ms', azj: 'az',
  plt: 'mg', als: 'sq', knc: 'kr', lvs: 'lv', ekk: 'et', ayr: 'ay', npi: 'ne', khk: 'mn',
  ydd: 'yi', quz: 'qu', quy: 'qu', qug: 'qu', fuv: 'ff', fuf: 'ff', zyb: 'za', cmn: 'zh',
};
// franc's one-language scripts (expressions.js keys) -> ICU script names.
const SINGLE_SCRIPT = {
  cmn: ['Han'], jpn: ['Hiragana', 'Katakana'], kor: ['Hangul'], ben: ['Bengali'],
  tel: ['Telugu'], tam: ['Tamil'], guj: ['Gujarati'], kan: ['Kannada'], mal: ['Malayalam'],
  pan: ['Gurmukhi'], tha: ['Thai'], sin: ['Sinhala'], ell: ['Greek'], khm: ['Khmer'],
  hye: ['Armenian'], bod: ['Tibetan'], kat: ['Georgian'], lao: ['Lao'], iii: ['Yi'],
  jav: ['Javanese'],
};

const iso = JSON.parse(readFileSync(isoJson, 'utf8'))['639-3'];
const alpha2 = new Map(iso.filter((e) => e.alpha_2).map((e) => [e.alpha_3, e.alpha_2]));
const code1 = (c3) => alpha2.get(c3) ?? MACRO[c3];

const { data } = await import(pathToFileURL(path.join(pkgDir, 'data.js')).href);
const lines = [
  '# Trigram profiles for services/sentiment/text/language_id.h, made by',
  '# tools/import/language/franc_profiles.mjs. Do not edit.',
  `source\t${source}`,
];
const kept = new Set();
const dropped = [];
for (const script of Object.keys(data).sort()) {
  for (const c3 of Object.keys(data[script]).sort()) {
    const c1 = code1(c3);
    if (!c1) {
      dropped.push(c3);
      continue;
    }
    const trigrams = data[script][c3].split('|');
    if (trigrams.some((t) => [...t].length !== 3 || /[\t|\n]/.test(t))) {
      throw new Error(`${script}/${c3}: a profile entry is not a trigram`);
    }
    lines.push(['trigrams', script, c1, c3, trigrams.join('|')].join('\t'));
    kept.add(c1);
  }
}
for (const c3 of Object.keys(SINGLE_SCRIPT).sort()) {
  const c1 = code1(c3);
  if (!c1) throw new Error(`${c3} has no ISO 639-1 code`);
  for (const script of SINGLE_SCRIPT[c3]) lines.push(['script', script, c1, c3].join('\t'));
  kept.add(c1);
}
const tmp = `${out}.tmp${process.pid}`;
writeFileSync(tmp, lines.join('\n') + '\n');
renameSync(tmp, out);
console.log(`language: ${kept.size} languages (ISO 639-1) written to ${out}; ` +
            `${dropped.length} franc languages without an ISO 639-1 code left out`);
