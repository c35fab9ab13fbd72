//! The BM25 baseline: tantivy, one text field with its `en_stem` tokenizer, the query
//! lower-cased and reduced to word tokens, as an OR of its terms. Collection is
//! exhaustive: for long OR queries tantivy's default `TopDocs` (block-max WAND) is much
//! slower than scoring every matching document with the same top-k.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::QueryParser;
use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::{DocId, Index, Score, SegmentOrdinal, SegmentReader, TantivyDocument};

/// An in-memory BM25 index over documents given in order.
pub struct Bm25 {
    searcher: tantivy::Searcher,
    parser: QueryParser,
}

impl std::fmt::Debug for Bm25 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bm25").finish_non_exhaustive()
    }
}

impl Bm25 {
    pub fn new(docs: &[String]) -> tantivy::Result<Self> {
        let mut schema = Schema::builder();
        let opts = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer("en_stem").set_index_option(IndexRecordOption::WithFreqs),
        );
        let field = schema.add_text_field("text", opts);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 50_000_000)?;
        for d in docs {
            let mut doc = TantivyDocument::default();
            doc.add_text(field, d);
            writer.add_document(doc)?;
        }
        writer.commit()?;
        let searcher = index.reader()?.searcher();
        let parser = QueryParser::for_index(&index, vec![field]);
        Ok(Self { searcher, parser })
    }

    /// Scores of every document the query retrieves, as (doc position, score).
    pub fn search(&self, query: &str) -> tantivy::Result<Vec<(usize, f32)>> {
        let words: Vec<String> =
            query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let (q, _errors) = self.parser.parse_query_lenient(&words.join(" "));
        self.searcher.search(&*q, &All)
    }
}

/// Collects every scored document (single-segment index: doc id = position).
struct All;
struct AllSegment(Vec<(usize, f32)>);

impl Collector for All {
    type Fruit = Vec<(usize, f32)>;
    type Child = AllSegment;
    fn for_segment(&self, _: SegmentOrdinal, _: &SegmentReader) -> tantivy::Result<AllSegment> {
        Ok(AllSegment(Vec::new()))
    }
    fn requires_scoring(&self) -> bool {
        true
    }
    fn merge_fruits(&self, fruits: Vec<Vec<(usize, f32)>>) -> tantivy::Result<Self::Fruit> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for AllSegment {
    type Fruit = Vec<(usize, f32)>;
    fn collect(&mut self, doc: DocId, score: Score) {
        self.0.push((doc as usize, score));
    }
    fn harvest(self) -> Self::Fruit {
        self.0
    }
}
