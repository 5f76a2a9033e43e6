from viewer.domain.allergy_negation import ALL, negation_scope


def test_scopes():
    assert negation_scope("716186003") == ALL
    assert negation_scope("409137002") == "drug"
    assert negation_scope("429625007") == "food"
    assert negation_scope("91936005") is None  # an allergy to penicillin is not a negation
    assert negation_scope(None) is None
