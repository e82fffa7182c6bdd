"""Loaders of docbatch passages for other libraries, each an optional extra and imported
only when asked for (``import docbatch`` imports none of them):

* ``docbatch.integrations.langchain.DocbatchLoader``: a LangChain document loader
  (``pip install 'docbatch[langchain]'``);
* ``docbatch.integrations.llamaindex.DocbatchReader``: a LlamaIndex reader
  (``pip install 'docbatch[llamaindex]'``).

Both read the store in bounded batches (``docbatch.store.base.PassageReader``) and give one
document per passage: its text, ``passage_id`` as the id, and the other columns of
``docbatch.store.records.PASSAGE_RECORDS`` as metadata (``docbatch.integrations.records``).
"""
