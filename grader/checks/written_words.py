"""Word lists of the written-answer profile: function words, auxiliaries, verbs of the lab and maths names.

They tell a sentence (words with syntax) from a bag of terms; see ``written_text.describe``.
"""


def _vocabulary(text: str) -> frozenset[str]:
    return frozenset(text.split())


FUNCTION_WORDS = _vocabulary(
    "a an the of to from with by for in on into onto at as than that which who whose because so since and or but "
    "its their his her this these those it they we our you your i my there then thus hence while when where if "
    "whereas not no only also too very how what why up down vs ~ -> < > "
    # French ones too: an answer in French is still sentences (its concepts are matched only by shared stems)
    "le la les un une des de du et ou mais donc car est sont pour par avec dans sur qui que ce cette il elle on "
    "nous ne pas plus "
    # and German ones (mixed-language notes: "LayerNorm vor jedem Sub-layer")
    "der die das den dem des und ist sind mit für von zu im ein eine einen nicht auch nur oder aber wenn weil vor "
    "nach"
)
AUXILIARIES = _vocabulary(
    "is are was were be been being am isn't aren't wasn't weren't has have had hasn't haven't do does did don't "
    "doesn't didn't can cannot can't could couldn't will won't would wouldn't may might must should shall need "
    "needs needed it's that's there's"
)
VERB_STEMS = _vocabulary(
    "accept add affect allow apply attend avoid become break bring build calculate capture change choose collect "
    "combine compare compute concatenate consider contain cost create cut decide decrease define depend describe "
    "determine divide drop encode enable exchange expect explain explode extend fail find fit follow gather "
    "generalise generalize get give go grow handle help hold improve include increase inject introduce keep know "
    "learn let limit look lose make map match mean merge mix model multiply need obtain overfit pass permute "
    "pool predict process produce project provide pull put reach read receive reduce relate remove replace "
    "represent require return run scale see seem serve share shuffle slide solve split stack start sum support "
    "take tell train transform treat try turn underfit use vary want work write yield converge diverge achieve "
    "aggregate accumulate act summarise summarize sit say show stay suffer"
)
IRREGULAR = _vocabulary("gave made took saw knew grew went got let put cut ran wrote found kept lost meant held sat")
MATH_WORDS = _vocabulary(
    "softmax sqrt concat mlp mhsa msa sa attn ln layernorm norm gelu dropout relu sin cos exp log max min o"
)
NOTE_RELATIONS = _vocabulary("= ~ -> < > more less fewer each every all any per both still even already just")
"""Words and symbols that relate the terms of a terse note (``conv = local``, ``more params``, ``each patch``)."""
IMPERATIVES = _vocabulary(
    "use add apply train try reduce increase decrease replace combine take make pretrain distil distill finetune "
    "fine-tune tune augment lower raise cut start keep avoid"
)
"""Verbs that open a terse instruction ('use more augmentation', 'add a conv stem')."""
NOUN_LIKE = _vocabulary(
    "cost map mean model pool patch split mix drop scale limit change work process return test train sum stack "
    "match need help use support project share run start cut turn fit break step result"
)
"""Bare verb stems that are more often nouns inside a term ('attention map', 'quadratic cost')."""
